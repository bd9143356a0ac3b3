"""Small real problems and paper reproductions that run adamlab's update rules."""
