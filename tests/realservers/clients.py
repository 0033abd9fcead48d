"""Real FTP (ftplib) and SFTP (paramiko) clients bound to a chosen 127.0.0.x source address."""

from __future__ import annotations

import ftplib
import io
import socket
from types import TracebackType

import paramiko  # type: ignore[import-untyped]  # no stubs in the venv (types-paramiko)

TIMEOUT = 10.0


class FtpClient:
    """One FTP session; entering logs in (PermissionError if refused), leaving sends QUIT."""

    def __init__(self, port: int, source: str, user: str, password: str):
        self.port, self.source, self.user, self.password = port, source, user, password
        # plaintext FTP is the very thing under test
        self.ftp = ftplib.FTP(timeout=TIMEOUT, source_address=(source, 0))  # noqa: S321

    def __enter__(self) -> FtpClient:
        self.ftp.connect("127.0.0.1", self.port)
        try:
            self.ftp.login(self.user, self.password)
        except ftplib.error_perm as exc:
            self.ftp.close()
            raise PermissionError(str(exc)) from exc
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            self.ftp.quit()
        except (OSError, EOFError, ftplib.Error):
            pass
        finally:
            self.ftp.close()

    def download(self, path: str) -> bytes:
        buf = io.BytesIO()
        self.ftp.retrbinary(f"RETR {path}", buf.write)
        return buf.getvalue()

    def upload(self, path: str, data: bytes) -> None:
        self.ftp.storbinary(f"STOR {path}", io.BytesIO(data))

    def listing(self, path: str = "") -> list[str]:
        return self.ftp.nlst(*([path] if path else []))

    def mkdir(self, path: str) -> None:
        self.ftp.mkd(path)

    def rmdir(self, path: str) -> None:
        self.ftp.rmd(path)

    def delete(self, path: str) -> None:
        self.ftp.delete(path)


class SftpClient:
    """One SFTP session over a paramiko Transport whose socket is bound to `source`."""

    def __init__(self, port: int, source: str, user: str, password: str):
        self.port, self.source, self.user, self.password = port, source, user, password
        self.sock = socket.create_connection(
            ("127.0.0.1", port), timeout=TIMEOUT, source_address=(source, 0)
        )
        self.transport = paramiko.Transport(self.sock)
        self._sftp: paramiko.SFTPClient | None = None

    def __enter__(self) -> SftpClient:
        try:
            self.transport.start_client(timeout=TIMEOUT)
            self.transport.auth_password(self.user, self.password)
        except paramiko.AuthenticationException as exc:
            self.close()
            raise PermissionError(str(exc)) from exc
        except BaseException:
            self.close()
            raise
        self._sftp = paramiko.SFTPClient.from_transport(self.transport)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._sftp is not None:
            self._sftp.close()
        self.transport.close()
        self.sock.close()

    @property
    def sftp(self) -> paramiko.SFTPClient:
        assert self._sftp is not None, "not logged in"
        return self._sftp

    def download(self, path: str) -> bytes:
        with self.sftp.open(path, "rb") as handle:
            data: bytes = handle.read()
        return data

    def upload(self, path: str, data: bytes) -> None:
        with self.sftp.open(path, "wb") as handle:
            handle.write(data)

    def listing(self, path: str = ".") -> list[str]:
        names: list[str] = self.sftp.listdir(path or ".")
        return names

    def mkdir(self, path: str) -> None:
        self.sftp.mkdir(path)

    def rmdir(self, path: str) -> None:
        self.sftp.rmdir(path)

    def delete(self, path: str) -> None:
        self.sftp.remove(path)
