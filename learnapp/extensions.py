"""Flask extensions, created unbound and initialised in create_app()."""

import ipaddress

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()


def client_network(address: str) -> str:
    """Who a per-client limit counts: an IPv4 address, or the /64 network of an IPv6 one.

    Whoever has IPv6 holds a whole /64 (a home line, any cloud server) and can send each request from a fresh
    address in it; an IPv4 address written as IPv6 (::ffff:192.0.2.7) is that IPv4 client. Anything else as given.
    """
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 4:
        return str(ip)
    if ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ipaddress.IPv6Network((ip, 64), strict=False))


def _client() -> str:
    return client_network(get_remote_address())


# per client (ProxyFix sets its address behind a proxy, see LEARNAPP_PROXY_HOPS); only routes that ask are limited
limiter = Limiter(key_func=_client)
