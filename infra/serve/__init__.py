"""The local stack: the whole system on one machine over moto in server mode (`programme serve`).

`stack` starts and stops it; what stands in for each AWS service:
`http_front` + `apigw` + `routes` (API Gateway HTTP API, the template's routes),
`streams` (DynamoDB Streams event source mappings), `scheduler` (EventBridge Scheduler),
`functions` (Lambda: the template's handlers, one invocation at a time in this process),
`moto_dynamodb` (DynamoDB's isolation, which moto lacks); `environment` and `clocks` are the
handlers' settings and time; `client` and `round3` load round 3 of 2015 through the API;
`console` is the `serve` and `demo` commands.
"""
