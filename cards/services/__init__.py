"""Django service layer around the pure scheduling core: settings, the queue and reviews.

Views call these functions; the rules live here (and in cards.scheduling), not in views.
"""
