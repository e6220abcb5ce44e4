"""A small JSON-RPC client of an Odoo server for the benchmarks (standard
library only): one logged-in session, its cookies kept."""

import json
import urllib.request
from http.cookiejar import CookieJar


class Client:
    def __init__(self, url, db, login, password, timeout=600):
        self.url = url
        self.timeout = timeout
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        self.call("/web/session/authenticate", {"db": db, "login": login, "password": password})

    def call(self, path, params):
        answer = json.loads(self.call_raw(path, params))
        if "error" in answer:
            raise RuntimeError(answer["error"]["data"]["message"])
        return answer["result"]

    def call_raw(self, path, params):
        """The answer's body: JSON, as bytes, undecoded."""
        body = json.dumps({"jsonrpc": "2.0", "method": "call", "params": params}).encode()
        request = urllib.request.Request(self.url + path, data=body, headers={"Content-Type": "application/json"})
        with self.opener.open(request, timeout=self.timeout) as response:
            return response.read()

    def call_kw(self, model, method, args, kwargs=None):
        return self.call("/web/dataset/call_kw", self.kw_params(model, method, args, kwargs))

    @staticmethod
    def kw_params(model, method, args, kwargs=None):
        return {"model": model, "method": method, "args": args, "kwargs": kwargs or {}}

    def get(self, path):
        with self.opener.open(self.url + path, timeout=self.timeout) as response:
            return response.read()
