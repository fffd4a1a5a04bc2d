# The same world as the evidence tests: English messages, a weekday morning, private media, and
# collector A's case after a visit with one photo.
from tests.evidence.conftest import _daytime, _english, _private_media, visited_case  # noqa: F401
