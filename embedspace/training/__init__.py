"""Building spaces and models: the corpus, word2vec training, mini GPT training runs."""
