"""Forms: they validate and clean; views assign the cleaned data."""
