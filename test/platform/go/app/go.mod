// The platform's own small programs, standard library only: the real node's pause image and the test
// app that runs on it (test/fixtures/real-app).
module deploy-suite.local/app

go 1.25.0
