"""Helper layers that `keras.applications` architectures define for themselves."""
