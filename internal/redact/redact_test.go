package redact

import "testing"

func TestURL(t *testing.T) {
	for in, want := range map[string]string{
		"":                                    "",
		"no secrets here":                     "no secrets here",
		"https://user:hunter2@example.test/x": "https://user:" + Mask + "@example.test/x",
		"https://user@example.test/x":         "https://user@example.test/x",
		"jdbc:mysql://root:s3cr3t@127.0.0.1:3306/m":                                                   "jdbc:mysql://root:" + Mask + "@127.0.0.1:3306/m",
		"dial http://a:b@h and http://c:d@i":                                                          "dial http://a:" + Mask + "@h and http://c:" + Mask + "@i",
		"https://acct.blob/c?sv=1&sig=abc%2F&se=2":                                                    "https://acct.blob/c?sv=1&sig=" + Mask + "&se=2",
		"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8==;BlobEndpoint=x": "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=" + Mask + ";BlobEndpoint=x",
		"?password=p&user=u":                                                                          "?password=" + Mask + "&user=u",
		"keyspace=apim":                                                                               "keyspace=apim",
	} {
		if got := URL(in); got != want {
			t.Errorf("URL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSQL(t *testing.T) {
	for in, want := range map[string]string{
		"SELECT * FROM t WHERE a = 'x'":                       "SELECT * FROM t WHERE a = 'x'",
		"CREATE USER 'u'@'%' IDENTIFIED BY 'hunter2'":         "CREATE USER '" + Mask + "'@'" + Mask + "' IDENTIFIED BY '" + Mask + "'",
		"set password for u = PASSWORD('it''s')":              "set password for u = PASSWORD('" + Mask + "')",
		`ALTER USER u IDENTIFIED BY "a\"b"`:                   "ALTER USER u IDENTIFIED BY '" + Mask + "'",
		"CHANGE MASTER TO MASTER_PASSWORD='p', MASTER_HOST=h": "CHANGE MASTER TO MASTER_PASSWORD='" + Mask + "', MASTER_HOST=h",
		"ALTER USER u IDENTIFIED BY 'cut-off":                 "ALTER USER u IDENTIFIED BY '" + Mask + "'",
	} {
		if got := SQL(in); got != want {
			t.Errorf("SQL(%q) = %q, want %q", in, got, want)
		}
	}
}
