"""The domain: API keys, accounts and their training opt-in, and the remove-background request.

No boto3 here: the services take the data-layer stores they need as constructor arguments.
"""
