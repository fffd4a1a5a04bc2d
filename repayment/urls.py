from django.urls import path

from repayment import views, views_finances

urlpatterns = [
    path("cases/<int:case_id>/negotiate/", views.case_negotiate, name="case-negotiate"),
    path("cases/<int:case_id>/finances/", views_finances.case_finances, name="case-finances"),
    path("finances/figures/<int:figure_id>/evidence/", views_finances.figure_evidence, name="finance-figure-evidence"),
    path("finances/figures/<int:figure_id>/verify/", views_finances.figure_verify, name="finance-figure-verify"),
    path("finances/evidence/<int:pk>/", views_finances.finance_evidence, name="finance-evidence"),
    path("cases/<int:case_id>/payments/new/", views.payment_create, name="payment-create"),
    path("plans/<int:plan_id>/", views.plan_detail, name="plan-detail"),
    path("plans/<int:plan_id>/submit/", views.plan_submit, name="plan-submit"),
    path("plans/<int:plan_id>/approve/", views.plan_approve, name="plan-approve"),
    path("plans/<int:plan_id>/reject/", views.plan_reject, name="plan-reject"),
    path("plans/<int:plan_id>/cancel/", views.plan_cancel, name="plan-cancel"),
    path("plans/<int:plan_id>/agreement/", views.plan_agreement, name="plan-agreement"),
    path("promises/<int:promise_id>/cancel/", views.promise_cancel, name="promise-cancel"),
    path("payments/<int:payment_id>/receipt/", views.payment_receipt, name="payment-receipt"),
    path("notifications/", views.notification_list, name="notification-list"),
    path("notifications/<int:pk>/read/", views.notification_read, name="notification-read"),
    path("notifications/read-all/", views.notification_read_all, name="notification-read-all"),
]
