"""The OpenAPI document, generated from the route table, the response models and the errors.

Not shipped to any function (infrastructure/layer.py NOT_SHIPPED): it loads pydantic and the
engine's option definitions, and only `cutout openapi` and the tests use it.
"""
