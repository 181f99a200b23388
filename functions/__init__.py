"""The Cloud-Functions-style HTTP handlers, one folder (and one main.py) each."""
