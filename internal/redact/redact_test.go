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
