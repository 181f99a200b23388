"""Battle.net: everything the project knows about talking to it, one idea a module.

regions.py    regions, game versions, namespaces and hosts, computed in one place
endpoints.py  each endpoint as a path, a namespace kind and a response model
models.py     the response models
client.py     `BlizzardClient`, the facade: an endpoint in, a parsed `Fetched` out
auth.py       the app token (renewed early, renewed once on 401) and a user's, as
              `httpx.Auth` flows
oauth.py      the OAuth host: the token endpoint (client credentials, code exchange),
              userinfo
transport.py  the single send: timeout, budget and breaker hooks, error mapping to
              `shared.errors`, one log line per request
retry.py      the retry policy: transport errors, 429 and 5xx, nothing else
budget.py     the client id's budget, shared by every process through Postgres
breaker.py    the circuit breaker, shared by every process through Postgres
scope.py      counting the requests of one operation across its threads
dates.py      HTTP dates (`Last-Modified`, `If-Modified-Since`)
"""
