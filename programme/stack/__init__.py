"""The local stack: the whole system on one machine over moto in server mode (`programme serve`).

`stack` starts and stops it; what stands in for each AWS service:
`http_front` + `apigw` + `routes` (API Gateway HTTP API, the template's routes),
`streams` (DynamoDB Streams event source mappings), `scheduler` (EventBridge Scheduler),
`functions` (Lambda: the template's handlers, one invocation at a time in this process),
`lambdas` + `lifecycle` (Step Functions: moto's interpreter runs the real ASL, its Lambda tasks
the real handlers), `destinations` (the on-failure queues), `moto_dynamodb` (DynamoDB's
isolation, which moto lacks); `environment` and `clock` are the handlers' settings and time.
`programme.serve` is the `serve` and `demo` commands built on it.
"""
