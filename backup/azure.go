package backup

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
)

// Azure is a location in an Azure Blob Storage container: azure://container/prefix.
type Azure struct {
	url       string // as given, for messages
	endpoint  string // the blob service, for messages
	account   string
	container string
	prefix    string // "" or "a/b/"
	c         *container.Client
	ensured   bool
}

var containerName = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9]|-[a-z0-9]){2,62}$`)

// AzureBlockSize is the block a part is uploaded in: a part writer holds one in memory.
const AzureBlockSize = 4 << 20

// OpenAzure opens azure://container/prefix with credentials from the environment (getenv),
// never from flags, never printed:
//
//	AZURE_STORAGE_CONNECTION_STRING, or a file named by AZURE_STORAGE_CONNECTION_STRING_FILE;
//	else AZURE_STORAGE_ACCOUNT with AZURE_STORAGE_KEY (or a file named by
//	AZURE_STORAGE_KEY_FILE), at AZURE_STORAGE_BLOB_ENDPOINT when set (default
//	https://ACCOUNT.blob.core.windows.net/).
func OpenAzure(_ context.Context, loc string, getenv func(string) string) (*Azure, error) {
	rest, ok := strings.CutPrefix(loc, "azure://")
	if !ok {
		return nil, fmt.Errorf("%q is not an azure://container/prefix location", loc)
	}
	cont, prefix, _ := strings.Cut(rest, "/")
	if !containerName.MatchString(cont) {
		return nil, fmt.Errorf("%q: %q is not an Azure container name (3-63 lower-case letters, digits, single hyphens)", loc, cont)
	}
	prefix = strings.Trim(prefix, "/")
	if prefix != "" {
		if err := checkName(prefix); err != nil {
			return nil, fmt.Errorf("%q: prefix: %w", loc, err)
		}
		prefix += "/"
	}
	opts := &azblob.ClientOptions{ClientOptions: azcore.ClientOptions{
		Retry: policy.RetryOptions{MaxRetries: 3, RetryDelay: 200 * time.Millisecond, MaxRetryDelay: 2 * time.Second, TryTimeout: 2 * time.Minute},
		// The SDK logs request URLs with SAS parameters redacted; nothing here logs at all.
		Logging: policy.LogOptions{IncludeBody: false},
	}}
	a := &Azure{url: loc, container: cont, prefix: prefix}
	var client *azblob.Client
	connStr, src, err := secretFromEnv(getenv, "AZURE_STORAGE_CONNECTION_STRING")
	if err != nil {
		return nil, err
	}
	switch {
	case connStr != "":
		client, err = azblob.NewClientFromConnectionString(connStr, opts)
		if err != nil {
			// The SDK's message may quote the string, key and all: say only where it was.
			return nil, fmt.Errorf("the Azure connection string in %s is not valid (want AccountName=…;AccountKey=…;BlobEndpoint=… or DefaultEndpointsProtocol=…)", src)
		}
		a.account = connStringField(connStr, "AccountName")
		a.endpoint = connStringField(connStr, "BlobEndpoint")
	default:
		a.account = getenv("AZURE_STORAGE_ACCOUNT")
		key, _, err := secretFromEnv(getenv, "AZURE_STORAGE_KEY")
		if err != nil {
			return nil, err
		}
		if a.account == "" || key == "" {
			return nil, errors.New("no Azure credentials: set AZURE_STORAGE_CONNECTION_STRING (or _FILE), or AZURE_STORAGE_ACCOUNT with AZURE_STORAGE_KEY (or _FILE)")
		}
		cred, err := azblob.NewSharedKeyCredential(a.account, key)
		if err != nil {
			return nil, errors.New("AZURE_STORAGE_KEY is not a valid account key (base64)")
		}
		a.endpoint = getenv("AZURE_STORAGE_BLOB_ENDPOINT")
		if a.endpoint == "" {
			a.endpoint = "https://" + a.account + ".blob.core.windows.net/"
		}
		if _, err := url.Parse(a.endpoint); err != nil {
			return nil, fmt.Errorf("AZURE_STORAGE_BLOB_ENDPOINT %q: %w", a.endpoint, err)
		}
		client, err = azblob.NewClientWithSharedKeyCredential(a.endpoint, cred, opts)
		if err != nil {
			return nil, fmt.Errorf("azure: %w", err)
		}
	}
	a.c = client.ServiceClient().NewContainerClient(cont)
	if a.endpoint == "" {
		a.endpoint = strings.TrimSuffix(a.c.URL(), "/"+cont)
	}
	return a, nil
}

// secretFromEnv reads NAME, else the file NAME_FILE names (trailing white space removed).
func secretFromEnv(getenv func(string) string, name string) (value, source string, err error) {
	if v := getenv(name); v != "" {
		return v, name, nil
	}
	if f := getenv(name + "_FILE"); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", "", fmt.Errorf("%s_FILE: %w", name, err)
		}
		return strings.TrimSpace(string(b)), f, nil
	}
	return "", "", nil
}

func connStringField(cs, field string) string {
	for _, kv := range strings.Split(cs, ";") {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.EqualFold(strings.TrimSpace(k), field) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func (a *Azure) String() string { return a.url }

// err turns an SDK error into one that says what failed and what to check, without a
// credential in it; a missing blob wraps fs.ErrNotExist.
func (a *Azure) err(op, name string, err error) error {
	var re *azcore.ResponseError
	switch {
	case bloberror.HasCode(err, bloberror.BlobNotFound):
		return fmt.Errorf("%s/%s: %w", a.url, name, fs.ErrNotExist)
	case bloberror.HasCode(err, bloberror.ContainerNotFound):
		return fmt.Errorf("azure: container %q does not exist in account %s (%s): %w", a.container, a.account, op, fs.ErrNotExist)
	case bloberror.HasCode(err, bloberror.AuthenticationFailed, bloberror.AuthorizationFailure, bloberror.InvalidAuthenticationInfo):
		return fmt.Errorf("azure: %s refused the credentials for account %q (%s): check AZURE_STORAGE_KEY or the connection string", a.endpoint, a.account, op)
	case errors.As(err, &re):
		code := ""
		if re.ErrorCode != "" {
			code = " (" + re.ErrorCode + ")"
		}
		return fmt.Errorf("azure: %s %s: %s answered %d %s%s after retries", op, name, a.endpoint, re.StatusCode, http2text(re.StatusCode), code)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("azure: %s %s: %w", op, name, err)
	}
	var ne net.Error
	var oe *net.OpError
	if errors.As(err, &oe) || errors.As(err, &ne) {
		return fmt.Errorf("azure: cannot reach %s (%s %s): %v", a.endpoint, op, name, unwrapNet(err))
	}
	return fmt.Errorf("azure: %s %s: %w", op, name, err)
}

func unwrapNet(err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Err
	}
	return err
}

func http2text(code int) string {
	switch {
	case code >= 500:
		return "server error"
	case code == 404:
		return "not found"
	case code == 403:
		return "forbidden"
	}
	return "error"
}

func (a *Azure) blobName(name string) (string, error) {
	if err := checkName(name); err != nil {
		return "", err
	}
	return a.prefix + name, nil
}

// ensureContainer creates the container on the first write (an existing one is fine).
func (a *Azure) ensureContainer(ctx context.Context) error {
	if a.ensured {
		return nil
	}
	_, err := a.c.Create(ctx, nil)
	if err != nil && !bloberror.HasCode(err, bloberror.ContainerAlreadyExists) {
		return a.err("create container", a.container, err)
	}
	a.ensured = true
	return nil
}

type azureWriter struct {
	a      *Azure
	ctx    context.Context
	name   string
	bb     *blockblob.Client
	buf    []byte
	blocks []string
	err    error
}

// Create implements Location: the object is uploaded in AzureBlockSize blocks and exists
// only once its block list is committed (with its SHA-256 as metadata).
func (a *Azure) Create(ctx context.Context, name string) (ObjectWriter, error) {
	bn, err := a.blobName(name)
	if err != nil {
		return nil, err
	}
	if err := a.ensureContainer(ctx); err != nil {
		return nil, err
	}
	return &azureWriter{a: a, ctx: ctx, name: name, bb: a.c.NewBlockBlobClient(bn), buf: make([]byte, 0, 256<<10)}, nil
}

func (w *azureWriter) Write(b []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	n := len(b)
	for len(b) > 0 {
		room := AzureBlockSize - len(w.buf)
		take := min(room, len(b))
		w.buf = append(w.buf, b[:take]...)
		b = b[take:]
		if len(w.buf) == AzureBlockSize {
			if err := w.stage(); err != nil {
				w.err = err
				return n - len(b), err
			}
		}
	}
	return n, nil
}

func (w *azureWriter) stage() error {
	id := base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "apimctl-%08d", len(w.blocks)))
	_, err := w.bb.StageBlock(w.ctx, id, streaming.NopCloser(bytes.NewReader(w.buf)), nil)
	if err != nil {
		return w.a.err("upload", w.name, err)
	}
	w.blocks = append(w.blocks, id)
	w.buf = w.buf[:0]
	return nil
}

func (w *azureWriter) Commit(sum string) error {
	if w.err != nil {
		return w.err
	}
	meta := map[string]*string{}
	if sum != "" {
		meta["sha256"] = &sum
	}
	if len(w.blocks) == 0 {
		_, err := w.bb.Upload(w.ctx, streaming.NopCloser(bytes.NewReader(w.buf)), &blockblob.UploadOptions{Metadata: meta})
		if err != nil {
			return w.a.err("upload", w.name, err)
		}
		return nil
	}
	if len(w.buf) > 0 {
		if err := w.stage(); err != nil {
			return err
		}
	}
	if _, err := w.bb.CommitBlockList(w.ctx, w.blocks, &blockblob.CommitBlockListOptions{Metadata: meta}); err != nil {
		return w.a.err("upload", w.name, err)
	}
	return nil
}

// Abort implements ObjectWriter: uncommitted blocks are discarded by the service itself.
func (w *azureWriter) Abort() { w.buf = nil }

// Open implements Location; a dropped connection is resumed from where it stopped.
func (a *Azure) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	bn, err := a.blobName(name)
	if err != nil {
		return nil, err
	}
	resp, err := a.c.NewBlobClient(bn).DownloadStream(ctx, nil)
	if err != nil {
		return nil, a.err("download", name, err)
	}
	return &azureReader{a: a, name: name, r: resp.NewRetryReader(ctx, &blob.RetryReaderOptions{MaxRetries: 3})}, nil
}

type azureReader struct {
	a    *Azure
	name string
	r    io.ReadCloser
}

func (r *azureReader) Read(b []byte) (int, error) {
	n, err := r.r.Read(b)
	if err != nil && err != io.EOF {
		err = r.a.err("download", r.name, err)
	}
	return n, err
}

func (r *azureReader) Close() error { return r.r.Close() }

// Stat implements Location.
func (a *Azure) Stat(ctx context.Context, name string) (Object, error) {
	bn, err := a.blobName(name)
	if err != nil {
		return Object{}, err
	}
	p, err := a.c.NewBlobClient(bn).GetProperties(ctx, nil)
	if err != nil {
		return Object{}, a.err("stat", name, err)
	}
	o := Object{Name: name}
	if p.ContentLength != nil {
		o.Size = *p.ContentLength
	}
	if p.LastModified != nil {
		o.Modified = *p.LastModified
	}
	o.SHA256 = metaSHA(p.Metadata)
	return o, nil
}

func metaSHA(m map[string]*string) string {
	for k, v := range m {
		if strings.EqualFold(k, "sha256") && v != nil {
			return *v
		}
	}
	return ""
}

// List implements Location.
func (a *Azure) List(ctx context.Context, prefix string) ([]Object, error) {
	full := a.prefix + prefix
	pager := a.c.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{Prefix: &full, Include: container.ListBlobsInclude{Metadata: true}})
	var out []Object
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			if bloberror.HasCode(err, bloberror.ContainerNotFound) {
				return nil, nil
			}
			return nil, a.err("list", prefix, err)
		}
		for _, it := range page.Segment.BlobItems {
			if it.Name == nil {
				continue
			}
			o := Object{Name: strings.TrimPrefix(*it.Name, a.prefix), SHA256: metaSHA(it.Metadata)}
			if it.Properties != nil {
				if it.Properties.ContentLength != nil {
					o.Size = *it.Properties.ContentLength
				}
				if it.Properties.LastModified != nil {
					o.Modified = *it.Properties.LastModified
				}
			}
			out = append(out, o)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// IDs implements Location.
func (a *Azure) IDs(ctx context.Context) ([]string, error) {
	pager := a.c.NewListBlobsHierarchyPager("/", &container.ListBlobsHierarchyOptions{Prefix: &a.prefix})
	var out []string
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			if bloberror.HasCode(err, bloberror.ContainerNotFound) {
				return nil, nil
			}
			return nil, a.err("list", a.prefix, err)
		}
		for _, p := range page.Segment.BlobPrefixes {
			if p.Name != nil {
				out = append(out, strings.TrimSuffix(strings.TrimPrefix(*p.Name, a.prefix), "/"))
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

// Delete implements Location.
func (a *Azure) Delete(ctx context.Context, name string) error {
	bn, err := a.blobName(name)
	if err != nil {
		return err
	}
	if _, err := a.c.NewBlobClient(bn).Delete(ctx, nil); err != nil && !bloberror.HasCode(err, bloberror.BlobNotFound) {
		return a.err("delete", name, err)
	}
	return nil
}
