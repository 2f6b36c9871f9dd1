"""Tests of the PyTorch frontend (conv1dify.torch)."""
