"""The framework-neutral core: layouts and pixel orders, size policies, numpy weight transforms.

Nothing here imports Keras or PyTorch; the frontends (`conv1dify.keras`, `conv1dify.torch`) ask it for every rule.
"""
