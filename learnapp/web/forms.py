"""The base of every form: fields are read from the posted form only.

Flask-WTF also reads a JSON body or uploaded files into a form. A JSON number or list, or a file part
named like a field, then reached WTForms' validators as a non-string and failed with a 500; a login's
email sent as a JSON list was also read differently by the form and by the login limits.
"""

from flask import request
from flask_wtf import FlaskForm
from flask_wtf.form import _Auto  # FlaskForm's "read the request" default, as its own wrap_formdata checks it


class Form(FlaskForm):
    class Meta(FlaskForm.Meta):
        def wrap_formdata(self, form, formdata):
            if formdata is not _Auto:  # the caller's own data (None: an empty form to show) as given
                return formdata
            return request.form if self.is_submitted() else None

        def is_submitted(self) -> bool:
            return request.method in ("POST", "PUT", "PATCH", "DELETE")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "csrf_token" in self._fields:  # hidden, labelled by nothing: no id, so a page of several forms repeats none
            self.csrf_token.render_kw = {"id": False}
