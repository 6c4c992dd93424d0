"""autoreid: Auto-ReID (ICCV 2019) — architecture search for person re-identification."""

__version__ = "0.1.0"
