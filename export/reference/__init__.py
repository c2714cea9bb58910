"""Reference world model (encoder + latent predictor) and behaviour model, trained in the sim."""
