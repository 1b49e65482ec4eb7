"""The local stack: the real handlers behind real HTTP, with moto standing in for AWS."""
