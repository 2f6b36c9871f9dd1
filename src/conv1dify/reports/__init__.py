"""Views of a conversion: the side-by-side tables, markdown/JSON/HTML reports and the receptive-field figure."""
