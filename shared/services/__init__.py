"""The use cases: each service takes its collaborators (Battle.net client, repositories) in its
constructor (the repositories it uses, by role: `shared.db`) and knows nothing of HTTP."""
