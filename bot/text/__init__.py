"""Text as every stage reads it: one normaliser, one fuzzy matcher, one list of slang."""
