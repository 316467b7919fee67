-- wrk script: POST the GraphQL body in $KITH_BODY with the bearer token in $KITH_TOKEN.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("KITH_TOKEN")
wrk.body = os.getenv("KITH_BODY")
