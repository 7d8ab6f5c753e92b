"""Documents every app shares: rendering PDFs, storing a rendering once, private downloads."""
