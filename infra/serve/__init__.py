"""The local stack: the whole system on one machine over moto in server mode."""
