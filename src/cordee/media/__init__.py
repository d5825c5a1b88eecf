"""Media files: checking and re-encoding images (``images``) and storing them (``storage``)."""
