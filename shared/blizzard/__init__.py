"""The shared Battle.net client: regions and namespaces, models, the HTTP client, OAuth."""
