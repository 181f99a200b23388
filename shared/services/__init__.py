"""The use cases: each service takes its collaborators (Battle.net client, repository) in its
constructor and knows nothing of HTTP."""
