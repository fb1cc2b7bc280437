"""The HTTP edge: Flask app factory, /callback, inbox and workers, /media, health."""
