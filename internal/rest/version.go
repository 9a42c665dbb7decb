package rest

// Version is pbxkit's version, sent in the User-Agent header.
const Version = "0.1.0"

// UserAgent is the default User-Agent of every pbxkit request.
const UserAgent = "pbxkit/" + Version
