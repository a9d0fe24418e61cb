"""Extensions: politeness (Crawl-delay), run report, terminal progress."""
