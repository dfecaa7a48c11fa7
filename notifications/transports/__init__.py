"""One class per outside service that Warroom sends to."""
