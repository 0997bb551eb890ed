"""The Hugging Face Space deployment: the front-matter lint and the deploy check (`make space-check`)."""
