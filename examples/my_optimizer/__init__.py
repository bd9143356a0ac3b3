"""An optimizer of one's own, benchmarked and verified with adamlab (see README.md)."""
