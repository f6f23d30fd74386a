// The PostgreSQL JDBC driver (the one DBeaver and Metabase use) against
// queuelake's PostgreSQL port. Run by the e2e test `clients` as a
// single-file program:
//   java -cp postgresql.jar JdbcClient.java PORT TOKEN QUERY PARAM
// QUERY holds `{p}` where the placeholder goes. Connects with the token as
// password, lists tables and views and the columns of `calls` through
// DatabaseMetaData, runs the query as a PreparedStatement, and prints
// {"tables": [...], "columns": [...], "rows": [[...], ...]} or
// {"error": "..."}.

import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

public class JdbcClient {
    static String quote(Object value) {
        if (value == null) {
            return "null";
        }
        if (value instanceof Number) {
            return value.toString();
        }
        StringBuilder out = new StringBuilder("\"");
        for (char c : value.toString().toCharArray()) {
            if (c == '"' || c == '\\') {
                out.append('\\').append(c);
            } else if (c < 0x20) {
                out.append(String.format("\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        return out.append('"').toString();
    }

    static String list(List<String> items) {
        return "[" + String.join(", ", items) + "]";
    }

    public static void main(String[] args) {
        String url = "jdbc:postgresql://127.0.0.1:" + args[0] + "/queuelake?sslmode=disable";
        Properties props = new Properties();
        props.setProperty("user", "analyst");
        props.setProperty("password", args[1]);
        try (Connection conn = DriverManager.getConnection(url, props)) {
            DatabaseMetaData meta = conn.getMetaData();
            List<String> tables = new ArrayList<>();
            try (ResultSet rs = meta.getTables(null, null, "%", new String[] {"TABLE", "VIEW"})) {
                while (rs.next()) {
                    tables.add(quote(rs.getString("TABLE_NAME")));
                }
            }
            List<String> columns = new ArrayList<>();
            try (ResultSet rs = meta.getColumns(null, null, "calls", "%")) {
                while (rs.next()) {
                    columns.add(quote(rs.getString("COLUMN_NAME")));
                }
            }
            List<String> rows = new ArrayList<>();
            try (PreparedStatement st = conn.prepareStatement(args[2].replace("{p}", "?"))) {
                st.setString(1, args[3]);
                try (ResultSet rs = st.executeQuery()) {
                    int width = rs.getMetaData().getColumnCount();
                    while (rs.next()) {
                        List<String> row = new ArrayList<>();
                        for (int i = 1; i <= width; i++) {
                            row.add(quote(rs.getObject(i)));
                        }
                        rows.add(list(row));
                    }
                }
            }
            System.out.println("{\"tables\": " + list(tables) + ", \"columns\": " + list(columns)
                + ", \"rows\": " + list(rows) + "}");
        } catch (Exception e) {
            System.out.println("{\"error\": " + quote(e.toString()) + "}");
        }
    }
}
