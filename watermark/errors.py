"""The one exception the watermark raises for bad input."""


class WatermarkError(ValueError):
    """An image, key or payload the watermark cannot work with; the message says why."""
