"""Answering: templated answers built from the articles' own sentences, each one cited."""
