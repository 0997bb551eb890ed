"""Synthetic probe faces: text-to-image faces by prompted age, gender and ethnicity (the conformal report's probe)."""
