"""Raw `keras.ops` calls inside a Functional graph."""
