"""Sign in with a user name or an e-mail address."""

from django.contrib.auth.backends import ModelBackend
from django.db.models import Q

from stakeholders.models import User


def account_for_name(name: str) -> User | None:
    """The account a person means by what they typed as their name: its user name or its e-mail, in any case."""
    return User.objects.filter(Q(username__iexact=name) | Q(email__iexact=name)).order_by("pk").first()


class UsernameOrEmailBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        user = account_for_name(username)
        if user is None:
            User().set_password(password)  # spend the same time as a real check: no hint that the name exists
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
