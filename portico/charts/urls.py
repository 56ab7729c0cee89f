from django.urls import path

from portico.charts import views

urlpatterns = [
    path("", views.patient_list, name="patient_list"),
    path("patients/new/", views.patient_new, name="patient_new"),
    path("patients/<uuid:patient_id>/edit/", views.patient_edit, name="patient_edit"),
    path("codes/<str:system>/", views.code_search, name="code_search"),
    path("patients/<uuid:patient_id>/record/", views.chart_summary, name="chart_summary"),
    path("patients/<uuid:patient_id>/record/<str:kind>/", views.item_list, name="item_list"),
    path("patients/<uuid:patient_id>/record/<str:kind>/new/", views.item_new, name="item_new"),
    path(
        "patients/<uuid:patient_id>/record/<str:kind>/<uuid:item_id>/",
        views.item_edit,
        name="item_edit",
    ),
    path(
        "patients/<uuid:patient_id>/record/<str:kind>/<uuid:item_id>/share/",
        views.item_share,
        name="item_share",
    ),
    path("patients/<uuid:patient_id>/encounters/new/", views.encounter_new, name="encounter_new"),
    path(
        "patients/<uuid:patient_id>/encounters/<uuid:encounter_id>/",
        views.encounter,
        name="encounter",
    ),
    path(
        "patients/<uuid:patient_id>/encounters/<uuid:encounter_id>/sign/",
        views.encounter_sign,
        name="encounter_sign",
    ),
    path(
        "patients/<uuid:patient_id>/encounters/<uuid:encounter_id>/amend/",
        views.encounter_amend,
        name="encounter_amend",
    ),
    path(
        "patients/<uuid:patient_id>/encounters/<uuid:encounter_id>/share/",
        views.encounter_share,
        name="encounter_share",
    ),
]
