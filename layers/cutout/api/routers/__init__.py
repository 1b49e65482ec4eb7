"""One Powertools router per route group; the route table says which function includes which."""
