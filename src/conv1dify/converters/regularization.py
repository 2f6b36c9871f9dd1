"""Regularization layers whose behaviour depends on spatial rank."""
