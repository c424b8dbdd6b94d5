"""Staff commands on rounds and subjects, IAM-authorised on AWS."""
