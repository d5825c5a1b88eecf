"""The read side: who may see what, timelines, threads, search. Never writes."""
