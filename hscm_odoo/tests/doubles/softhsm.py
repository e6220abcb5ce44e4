"""A throwaway SoftHSM2 token holding one signing key and its certificate.

The token lives in its own temporary folder with its own ``SOFTHSM2_CONF``,
so tests never see (or damage) a token configured on the machine. It is
filled the way an administrator would fill a real token: ``softhsm2-util``
initialises it and imports the PKCS#8 key, ``pkcs11-tool`` (OpenSC) writes the
certificates.

SoftHSM2 reads ``SOFTHSM2_CONF`` when the module is initialised, once per
process: :meth:`SoftHsmToken.start` points the variable at the new token and
finalises the module if this process had already loaded it, so the next
PKCS#11 session sees the new token. Use one token at a time per process.
"""

import os
import shutil
import subprocess
import tempfile

import pkcs11
from cryptography.hazmat.primitives import serialization

SOFTHSM_MODULE = "/usr/lib/softhsm/libsofthsm2.so"


class SoftHsmToken:
    """A SoftHSM2 token with ``key`` (a ``cryptography`` private key) under
    ``key_label`` and ``cert_der`` under ``cert_label``; ``chain_der``
    (intermediate/root certificates) is written too, labelled ``ca-1``, ...

    Use as a context manager, or call :meth:`start` and :meth:`close`.
    """

    def __init__(self, key, cert_der: bytes, *, chain_der=(), token_label="hscm-test",
                 pin="246810", so_pin="13579135", key_label="signer", cert_label=None,
                 module_path=SOFTHSM_MODULE):
        self.key = key
        self.cert_der = cert_der
        self.chain_der = list(chain_der)
        self.token_label = token_label
        self.pin = pin
        self.so_pin = so_pin
        self.key_label = key_label
        self.cert_label = cert_label or key_label
        self.module_path = module_path
        self.folder = None
        self._previous_conf = None

    def _run(self, *args):
        env = dict(os.environ, SOFTHSM2_CONF=self.conf_path)
        done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            # The command line holds PINs: report the tool and its output only.
            raise RuntimeError(f"{args[0]} failed: {done.stdout}{done.stderr}")

    @property
    def conf_path(self) -> str:
        return os.path.join(self.folder, "softhsm2.conf")

    def start(self) -> "SoftHsmToken":
        self.folder = tempfile.mkdtemp(prefix="hscm-softhsm-")
        tokens = os.path.join(self.folder, "tokens")
        os.mkdir(tokens)
        with open(self.conf_path, "w", encoding="ascii") as f:
            f.write(f"directories.tokendir = {tokens}\n"
                    "objectstore.backend = file\n"
                    "log.level = ERROR\n"
                    "slots.removable = false\n")
        try:
            self._fill()
        except Exception:
            shutil.rmtree(self.folder, ignore_errors=True)
            raise
        self._previous_conf = os.environ.get("SOFTHSM2_CONF")
        os.environ["SOFTHSM2_CONF"] = self.conf_path
        pkcs11.unload(self.module_path)  # re-read the configuration on next use
        return self

    def _fill(self):
        self._run("softhsm2-util", "--init-token", "--free", "--label", self.token_label,
                  "--pin", self.pin, "--so-pin", self.so_pin)
        key_path = os.path.join(self.folder, "key.p8")
        with open(key_path, "wb") as f:
            f.write(self.key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
        self._run("softhsm2-util", "--import", key_path, "--token", self.token_label,
                  "--label", self.key_label, "--id", "01", "--pin", self.pin)
        os.remove(key_path)
        certs = [(self.cert_label, "01", self.cert_der)]
        certs += [(f"ca-{i}", f"{i + 1:02x}", der) for i, der in enumerate(self.chain_der, 1)]
        for label, object_id, der in certs:
            path = os.path.join(self.folder, f"{object_id}.der")
            with open(path, "wb") as f:
                f.write(der)
            self._run("pkcs11-tool", "--module", self.module_path,
                      "--token-label", self.token_label, "--login", "--pin", self.pin,
                      "--write-object", path, "--type", "cert",
                      "--label", label, "--id", object_id)

    def close(self):
        if self.folder is None:
            return
        pkcs11.unload(self.module_path)
        if self._previous_conf is None:
            os.environ.pop("SOFTHSM2_CONF", None)
        else:
            os.environ["SOFTHSM2_CONF"] = self._previous_conf
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()
