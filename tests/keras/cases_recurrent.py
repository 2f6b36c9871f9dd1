"""ConvLSTM2D takes rank-5 image sequences, which the (H, W, C) case table cannot express: its cases are the
tests in test_recurrent.py, listed here so the registry-driven test knows they exist."""

import keras

CASES: list = []
COVERED = [keras.layers.ConvLSTM2D]
