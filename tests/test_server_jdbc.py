"""pgjdbc (the PostgreSQL JDBC driver) against `dsql serve`.

Goal: a Java program using the stock driver connects (SCRAM), creates a table, inserts and
selects with PreparedStatement, and reads DatabaseMetaData.getTables / getColumns (pgjdbc's
pg_catalog queries). Method: a small Java program compiled with javac at test time, run with
/usr/share/java/postgresql.jar (Debian's libpostgresql-jdbc-java) on the classpath. Skipped
when javac, java or the jar is missing (CI does not install a JDK).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from engine_serve import ADMIN, PASSWORD, EngineServer, engine_server  # noqa: F401

JAR = Path(os.environ.get("DSQL_PGJDBC_JAR", "/usr/share/java/postgresql.jar"))

PROGRAM = r"""
import java.sql.*;

public class DsqlJdbc {
    public static void main(String[] args) throws Exception {
        String url = "jdbc:postgresql://" + args[0] + ":" + args[1] + "/dsql";
        try (Connection c = DriverManager.getConnection(url, args[2], args[3])) {
            try (Statement s = c.createStatement()) {
                s.execute("CREATE TABLE jt (id int PRIMARY KEY, name text NOT NULL, "
                          + "price numeric(8,2))");
            }
            try (PreparedStatement p = c.prepareStatement(
                    "INSERT INTO jt (id, name, price) VALUES (?, ?, ?)")) {
                for (int i = 1; i <= 3; i++) {
                    p.setInt(1, i);
                    p.setString(2, "n" + i);
                    p.setBigDecimal(3, new java.math.BigDecimal(i + ".50"));
                    p.executeUpdate();
                }
            }
            try (PreparedStatement p = c.prepareStatement(
                    "SELECT id, name, price FROM jt WHERE id >= ? ORDER BY id")) {
                p.setInt(1, 2);
                try (ResultSet r = p.executeQuery()) {
                    while (r.next()) {
                        System.out.println("row " + r.getInt(1) + " " + r.getString(2) + " "
                                           + r.getBigDecimal(3));
                    }
                }
            }
            DatabaseMetaData md = c.getMetaData();
            System.out.println("product " + md.getDatabaseProductName() + " "
                               + md.getDatabaseMajorVersion());
            try (ResultSet r = md.getTables(null, "public", "%", new String[] {"TABLE"})) {
                while (r.next()) {
                    System.out.println("table " + r.getString("TABLE_SCHEM") + "."
                                       + r.getString("TABLE_NAME"));
                }
            }
            try (ResultSet r = md.getColumns(null, "public", "jt", "%")) {
                while (r.next()) {
                    System.out.println("column " + r.getString("COLUMN_NAME") + " "
                                       + r.getString("TYPE_NAME") + " "
                                       + r.getString("IS_NULLABLE"));
                }
            }
        }
    }
}
"""


def test_pgjdbc(engine_server: EngineServer, tmp_path: Path) -> None:  # noqa: F811
    javac, java = shutil.which("javac"), shutil.which("java")
    if javac is None or java is None or not JAR.exists():
        pytest.skip("needs javac, java and the PostgreSQL JDBC jar")
    (tmp_path / "DsqlJdbc.java").write_text(PROGRAM)
    subprocess.run([javac, "-cp", str(JAR), "DsqlJdbc.java"], cwd=tmp_path, check=True,
                   capture_output=True, timeout=180)
    out = subprocess.run([java, "-cp", f"{JAR}{os.pathsep}.", "DsqlJdbc", engine_server.host,
                          str(engine_server.port), ADMIN, PASSWORD], cwd=tmp_path,
                         capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr[-3000:]
    lines = out.stdout.splitlines()
    assert lines[:2] == ["row 2 n2 2.50", "row 3 n3 3.50"]
    assert "product PostgreSQL 16" in lines
    assert "table public.jt" in lines
    assert [x for x in lines if x.startswith("column ")] == [
        "column id int4 NO", "column name text NO", "column price numeric YES"]
