"""Preprocessing layers: rescaling, normalization statistics, resizing and augmentation."""
