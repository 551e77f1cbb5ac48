module github.com/gotutor/tutor/lessons

go 1.26
